"""assistant.tools"""
