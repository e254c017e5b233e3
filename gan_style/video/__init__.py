"""Video clips: reading and writing them frame by frame with PyAV (`clips.py`), optical flow
between frames (`flow.py`), and steadying translated frames along it (`steadying.py`)."""
