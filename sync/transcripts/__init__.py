"""The transcripts stage: what was said in the recordings, from their captions.

    captions   caption files (json3, WebVTT) -> timed words (pure)
    segments   timed words -> readable, bounded segments with their word times (pure)
    fetch      the caption fetch through yt-dlp, one video at a time
    files      caption files fetched elsewhere: which is which video's, the best of each
    runs       `talks transcripts import|fetch`: runs, caption state, re-check delays
    save       save_* writers for caption state and transcript segments
    export     WebVTT, SRT and plain text of stored transcripts (downloads, `transcripts export`)
"""
