"""The domain of NavTalk Loop Studio. Nothing in this package imports Qt."""
