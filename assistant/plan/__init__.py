"""assistant.plan"""
