"""labloop.devices"""
