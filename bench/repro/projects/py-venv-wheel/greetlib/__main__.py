from . import greet

print(greet("cli"))
