"""assistant.data"""
