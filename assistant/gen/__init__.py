"""assistant.gen"""
