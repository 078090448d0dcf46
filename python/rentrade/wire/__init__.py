"""The wire path: compiled WebSocket listeners that hand frames straight to the C++ venue parsers."""
