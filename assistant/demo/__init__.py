"""assistant.demo"""
