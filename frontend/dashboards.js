// Embed one Superset dashboard on /dashboards/<slug> (served as /static/js/dashboards.js).
//
// An external module script, so the page keeps its strict Content-Security-
// Policy (no inline script). superset-embedded-sdk.js, loaded before this
// with `defer`, defines window.supersetEmbeddedSdk.
//
// The guest token comes from the app itself (POST, same origin, with the
// page's CSRF token); the app decides whose rows it allows. The SDK calls
// fetchGuestToken again before each token expires.

const mount = document.getElementById('dashboard-mount')
const FALLBACK = 'The dashboard could not be loaded. Reload the page to try again. ' +
  'If it keeps happening, tell your administrator.'
const SIGNED_OUT = 'Your session may have ended. Reload the page, sign in again if asked, and try again.'

function showError (message) {
  const box = document.getElementById('dashboard-error')
  const loading = document.getElementById('dashboard-loading') // gone once the iframe is placed
  document.getElementById('dashboard-error-message').textContent = message
  if (loading) loading.hidden = true
  box.hidden = false
  box.focus()
}

async function fetchGrant () {
  const body = new URLSearchParams()
  if (mount.dataset.viewer) body.set('viewer', mount.dataset.viewer)
  let response
  try {
    response = await fetch(mount.dataset.tokenUrl, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { Accept: 'application/json', 'X-CSRFToken': mount.dataset.csrfToken },
      body
    })
  } catch (error) {
    throw new Error('The service could not be reached. Check your connection and reload the page.')
  }
  const type = response.headers.get('Content-Type') || ''
  // Signed out: the sign-in page (HTML) comes back instead of JSON.
  if (!type.includes('application/json')) throw new Error(response.redirected ? SIGNED_OUT : FALLBACK)
  const payload = await response.json()
  if (!response.ok || !payload.token) throw new Error(payload.message || FALLBACK)
  return payload
}

// Keep the frame as tall as the dashboard inside it, so the page scrolls once.
function fitHeight (embedded, iframe) {
  const resize = async () => {
    try {
      const size = await embedded.getScrollSize()
      if (size && size.height > 0) iframe.style.height = `${Math.max(600, size.height)}px`
    } catch (error) {
      // The dashboard is still starting; the next tick tries again.
    }
  }
  resize()
  window.setInterval(resize, 2000)
}

async function start () {
  document.getElementById('dashboard-loading').hidden = false
  const first = await fetchGrant()
  let firstToken = first.token
  const embedded = await window.supersetEmbeddedSdk.embedDashboard({
    id: first.dashboardId,
    supersetDomain: first.supersetDomain,
    mountPoint: mount,
    fetchGuestToken: async () => {
      if (firstToken) {
        const token = firstToken
        firstToken = null
        return token
      }
      return (await fetchGrant()).token
    },
    dashboardUiConfig: { hideTitle: true, filters: { expanded: false } },
    iframeTitle: mount.dataset.iframeTitle,
    // The app's pages send no referrer across origins; Superset checks the
    // embedding origin against its allowed domains, so send the origin only.
    referrerPolicy: 'strict-origin'
  })
  const iframe = mount.querySelector('iframe')
  iframe.style.width = '100%'
  iframe.style.height = '900px'
  iframe.style.border = '0'
  fitHeight(embedded, iframe)
}

if (mount) {
  if (!window.supersetEmbeddedSdk) {
    showError(FALLBACK)
  } else {
    start().catch((error) => showError(error.message || FALLBACK))
  }
}
