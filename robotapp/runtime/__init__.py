"""The runtime: long-lived services that own hardware; the GUI and CLI talk to these, never to drivers."""
