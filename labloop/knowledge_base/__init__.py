"""labloop.knowledge_base"""
