"""assistant.recommend"""
