// The point page's audio on a locked screen: Media Session metadata (title, site, photo) and the lock
// screen's buttons (play, pause, stop, seek, previous/next stop). The page works fully without this file.
(function () {
  "use strict";
  var audio = document.querySelector("audio[data-title]");
  if (!audio || !("mediaSession" in navigator) || typeof MediaMetadata === "undefined") {
    return;
  }
  var session = navigator.mediaSession;

  function artwork() {
    // the stop's photo: the copy the browser chose, or (lazy, not loaded yet) the one its src names
    var img = document.querySelector("main img");
    if (!img || !(img.currentSrc || img.src)) {
      return [];
    }
    var width = img.currentSrc ? img.naturalWidth : img.getAttribute("width");
    var height = img.currentSrc ? img.naturalHeight : img.getAttribute("height");
    return [{ src: img.currentSrc || img.src, sizes: width + "x" + height }];
  }

  function describe() {
    session.metadata = new MediaMetadata({
      title: audio.dataset.title,
      artist: audio.dataset.site || "",
      album: audio.dataset.tour || "",
      artwork: artwork()
    });
  }

  function follow(rel) {
    var link = document.querySelector('a[rel="' + rel + '"]');
    return link ? function () { window.location.href = link.href; } : null;
  }

  function seekBy(seconds) {
    var end = isFinite(audio.duration) ? audio.duration : audio.currentTime + seconds;
    audio.currentTime = Math.min(end, Math.max(0, audio.currentTime + seconds));
  }

  var actions = {
    play: function () { audio.play(); },
    pause: function () { audio.pause(); },
    stop: function () { audio.pause(); audio.currentTime = 0; },
    seekbackward: function (details) { seekBy(-(details.seekOffset || 10)); },
    seekforward: function (details) { seekBy(details.seekOffset || 10); },
    seekto: function (details) { audio.currentTime = details.seekTime; },
    previoustrack: follow("prev"),
    nexttrack: follow("next")
  };
  Object.keys(actions).forEach(function (name) {
    if (!actions[name]) {
      return;
    }
    try {
      session.setActionHandler(name, actions[name]);
    } catch (unsupported) {
      // this browser has no such button: the others still work
    }
  });

  function position() {
    if (session.setPositionState && isFinite(audio.duration) && audio.duration > 0) {
      session.setPositionState({
        duration: audio.duration,
        playbackRate: audio.playbackRate,
        position: Math.min(audio.currentTime, audio.duration)
      });
    }
  }

  audio.addEventListener("play", function () { describe(); session.playbackState = "playing"; });
  audio.addEventListener("pause", function () { session.playbackState = "paused"; });
  audio.addEventListener("loadedmetadata", position);
  audio.addEventListener("seeked", position);
  audio.addEventListener("ratechange", position);
  audio.addEventListener("ended", function () { session.playbackState = "none"; });
  describe();
})();
