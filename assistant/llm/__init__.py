"""assistant.llm"""
