"""assistant.index"""
