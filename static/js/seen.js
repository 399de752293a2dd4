// Reports this page view (blog/views/seen.py) with the page's own referrer,
// which the beacon cannot see otherwise. Without script, the <noscript> image
// reports it without the referrer.
(function () {
  var script = document.currentScript;
  var url = script && script.dataset.viewBeacon;
  if (!url) return;
  var image = new Image();
  image.src = document.referrer ? url + "?r=" + encodeURIComponent(document.referrer) : url;
})();
