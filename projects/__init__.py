"""Plugin projects: each lives in its own folder and is loaded by `custom_imports`."""
