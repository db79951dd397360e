"""assistant.sentiment"""
