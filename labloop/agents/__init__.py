"""labloop.agents"""
