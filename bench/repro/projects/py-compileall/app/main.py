import json

def main():
    print(json.dumps({"ok": True}))
