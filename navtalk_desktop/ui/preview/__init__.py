"""The live preview: the loop playing in a QOpenGLWidget (or a raster QWidget where OpenGL is missing),
with the mouth lip-synced to speech.

view_factory.create_preview_view picks the view; player.LoopPlayer times the loop and the mouth;
preview_panel.PreviewPanel is the studio dock (text, engine, voice, Speak, Stop, viseme overlay).
"""
