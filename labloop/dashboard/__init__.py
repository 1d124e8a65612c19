"""labloop.dashboard"""
