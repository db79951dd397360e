"""assistant.forecast"""
