"""Weight-free mouth rendering: viseme parameters, landmark warping of the mouth region, PNG patch sets. No Qt."""
