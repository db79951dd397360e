"""assistant.ui"""
