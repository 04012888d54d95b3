// Progressive enhancement of the upload form: drag and drop, one request per file with its own progress.
// Without this script the form posts every file at once and the server answers with a page.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form || !window.FormData || !window.XMLHttpRequest) { return; }
  var input = document.getElementById("file");
  var zone = document.getElementById("dropzone");
  var list = document.getElementById("progress");
  var after = document.getElementById("after-upload");
  var csrf = form.querySelector("input[name=csrf_token]").value;
  var pending = 0;

  function send(file) {
    var li = document.createElement("li");
    var label = document.createElement("span");
    label.textContent = file.name + ": ";
    var bar = document.createElement("progress");
    bar.max = 100; bar.value = 0;
    bar.setAttribute("aria-label", "upload of " + file.name);
    var state = document.createElement("span");
    state.className = "file-state";
    li.appendChild(label); li.appendChild(bar); li.appendChild(state);
    list.appendChild(li);
    var data = new FormData();
    data.append("csrf_token", csrf);
    data.append("file", file, file.name);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", "/upload");
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = function (e) { if (e.lengthComputable) { bar.value = Math.round(e.loaded * 100 / e.total); } };
    xhr.onload = function () {
      var body = {};
      try { body = JSON.parse(xhr.responseText); } catch (err) { body = {}; }
      bar.value = 100;
      if (xhr.status === 200 && !body.error) {
        state.textContent = body.again ? " already uploaded before" : " received, being analysed";
        li.dataset.state = "ok";
      } else {
        state.textContent = " not accepted: " + (body.error || ("the server answered " + xhr.status));
        li.dataset.state = "error";
      }
      done();
    };
    xhr.onerror = function () { state.textContent = " failed: the connection was lost; try again"; li.dataset.state = "error"; done(); };
    pending += 1;
    xhr.send(data);
  }
  function done() { pending -= 1; if (pending === 0) { after.hidden = false; } }
  function sendAll(files) { for (var i = 0; i < files.length; i++) { send(files[i]); } }

  form.addEventListener("submit", function (e) {
    if (!input.files.length) { return; }
    e.preventDefault();
    sendAll(input.files);
    input.value = "";
  });
  ["dragenter", "dragover"].forEach(function (t) {
    zone.addEventListener(t, function (e) { e.preventDefault(); zone.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (t) {
    zone.addEventListener(t, function (e) { e.preventDefault(); zone.classList.remove("over"); });
  });
  zone.addEventListener("drop", function (e) { if (e.dataTransfer && e.dataTransfer.files.length) { sendAll(e.dataTransfer.files); } });
})();
