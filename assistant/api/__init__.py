"""assistant.api"""
