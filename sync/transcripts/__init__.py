"""The transcripts stage: what was said in the recordings, from their captions.

    captions   caption files (json3, WebVTT) -> timed words -> segments (pure)
    fetch      the caption fetch through yt-dlp, one video at a time
    runs       `talks transcripts import|fetch`: runs, caption state, re-check delays
    save       save_* writers for caption state and transcript segments
"""
