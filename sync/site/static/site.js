// Click-to-play: the page loads nothing from YouTube but a thumbnail until asked to play.
(function () {
  function play(link, start) {
    var id = link.getAttribute("data-video");
    if (!/^[A-Za-z0-9_-]{11}$/.test(id)) return false;  // only canonical ids reach an embed
    var frame = document.createElement("iframe");
    frame.src = "https://www.youtube-nocookie.com/embed/" + id + "?autoplay=1&start=" + (parseInt(start, 10) || 0);
    frame.title = "Recording";
    frame.allow = "autoplay; encrypted-media; picture-in-picture; fullscreen";
    frame.setAttribute("allowfullscreen", "");
    var box = link.parentNode;
    box.replaceChild(frame, link);
    return true;
  }
  document.addEventListener("click", function (event) {
    var start = event.target.closest && event.target.closest("a.player-start");
    if (start && play(start, start.getAttribute("data-start"))) { event.preventDefault(); return; }
    var ts = event.target.closest && event.target.closest("a.ts[data-t]");
    var player = document.querySelector(".player");
    if (ts && player) {
      var link = player.querySelector("a.player-start");
      var frame = player.querySelector("iframe");
      if (frame && link === null) {
        var id = frame.src.split("/embed/")[1].split("?")[0];
        var again = document.createElement("a");
        again.setAttribute("data-video", id);
        player.replaceChild(again, frame);
        link = again;
      }
      if (link && play(link, ts.getAttribute("data-t"))) {
        event.preventDefault();
        player.scrollIntoView({ behavior: "smooth", block: "start" });
      }
    }
  });
})();
