/* Chronicle theme scripts (demo): sticky header and mobile menu toggle */
document.addEventListener('DOMContentLoaded', function () {
  var t = document.querySelector('.menu-toggle'), m = document.getElementById('mobile-menu');
  if (t && m) t.addEventListener('click', function () {
    var open = m.style.display === 'block';
    m.style.display = open ? 'none' : 'block';
    m.setAttribute('aria-hidden', open ? 'true' : 'false');
  });
});
