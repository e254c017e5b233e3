"""Image style translation with PyTorch."""
