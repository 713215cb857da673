"""Video input: probe a file, plan which frames to read, decode them with PyAV."""
