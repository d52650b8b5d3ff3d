// ruta-console: posts forms in the background so that a form survives a
// failure (node unreachable, session expired, a field to fix): the page is
// not left, nothing typed is lost, and the same request_id is sent again on
// retry, so the node never acts twice. A form being sent cannot be sent a
// second time (double click). Nothing is kept in browser storage.
'use strict';
(function () {
  function messageOf(form) {
    let p = form.querySelector('.form-mensaje');
    if (!p) {
      p = document.createElement('p');
      p.className = 'form-mensaje error';
      p.setAttribute('role', 'alert');
      form.insertBefore(p, form.firstChild);
    }
    return p;
  }

  function showKnown(form, known) {
    const box = document.getElementById('ingreso-conocidos');
    if (!box || !known) return;
    box.textContent = '';
    const title = document.createElement('p');
    title.textContent = 'Casos de esta persona que la región conoce:';
    box.appendChild(title);
    const list = document.createElement('ul');
    for (const c of known) {
      const item = document.createElement('li');
      const link = document.createElement('a');
      link.href = '/caso/' + encodeURIComponent(c.id);
      link.textContent = c.id;
      item.appendChild(link);
      item.appendChild(document.createTextNode(' — ' + c.region + ', ' + c.stage));
      list.appendChild(item);
    }
    box.appendChild(list);
  }

  document.addEventListener('submit', async function (event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute('data-ajax')) {
      return;
    }
    event.preventDefault();
    if (form.dataset.enviando === '1') return;
    form.dataset.enviando = '1';
    const buttons = form.querySelectorAll('button');
    buttons.forEach(function (b) { b.disabled = true; });
    const message = messageOf(form);
    message.className = 'form-mensaje notice';
    message.textContent = 'Enviando…';
    const data = new FormData(form);
    if (event.submitter && event.submitter.name) {
      data.append(event.submitter.name, event.submitter.value);
    }
    let left = false;
    try {
      const response = await fetch(form.action, {
        method: 'POST',
        body: new URLSearchParams(data),
        headers: { 'Accept': 'application/json' },
        credentials: 'same-origin',
        cache: 'no-store',
      });
      let answer = {};
      try {
        answer = await response.json();
      } catch (e) {
        answer = {};
      }
      if (response.ok && answer.go) {
        left = true;
        window.location.assign(answer.go);
        return;
      }
      message.className = 'form-mensaje error';
      message.textContent = answer.error ||
          ('La consola respondió con un error (' + response.status + ').');
      if (answer.login) {
        const link = document.createElement('a');
        link.href = answer.login;
        link.target = '_blank';
        link.rel = 'noopener';
        link.textContent = ' Ingresar de nuevo';
        message.appendChild(link);
      }
      if (answer.confirm) {
        const row = document.getElementById('confirmar-fila');
        if (row) row.hidden = false;
      }
      showKnown(form, answer.known);
    } catch (e) {
      message.className = 'form-mensaje error';
      message.textContent = 'No se pudo contactar la consola: revise la ' +
          'conexión. Su formulario sigue aquí; vuelva a enviarlo cuando ' +
          'vuelva la conexión (no se registrará dos veces).';
    } finally {
      if (!left) {
        form.dataset.enviando = '';
        buttons.forEach(function (b) { b.disabled = false; });
      }
    }
  });
})();
