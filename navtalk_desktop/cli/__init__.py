"""`navtalk-loop`: the headless command line."""

import os

# The CLI's heavy work runs in ffmpeg, OpenCV and MediaPipe, which have their own threads; numpy's few matrix
# products are small. OpenBLAS' extra threads start with numpy and spin after each product, taking CPU the
# encode needs: 0.3 CPU-s and ~0.12 s of a 512 px export on 2 cores (docs/performance.md). Set before numpy
# is first imported; a value the user set wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
