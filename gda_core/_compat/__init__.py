"""Small, isolated compatibility shims for third-party packages."""
