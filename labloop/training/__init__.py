"""labloop.training"""
