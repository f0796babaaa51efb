"""Speech to timed mouth shapes: TTS engines, phonemes, visemes, timing, audio, playback clock. No Qt."""
