// Progressive enhancement of the coding page: selecting words in the text fills the form's
// passage and its starting character, so the server codes exactly the selected span. The
// page works without this file (the coder copies the words into the form instead).
const text = document.getElementById('source-text')
const passage = document.getElementById('f-passage')
const after = document.getElementById('f-after')
const status = document.getElementById('selection-status')

// The character offset of (node, offset) in the stored text: text nodes count their
// characters, each <br> the one line end it stands for.
function position (node, offset) {
  let count = 0
  for (const child of text.childNodes) {
    if (child === node) return count + offset
    if (child.contains(node)) return count + offset
    count += child.nodeType === Node.TEXT_NODE ? child.data.length : (child.nodeName === 'BR' ? 1 : child.textContent.length)
  }
  if (node === text) {
    let n = 0
    for (const child of Array.from(text.childNodes).slice(0, offset)) {
      n += child.nodeType === Node.TEXT_NODE ? child.data.length : (child.nodeName === 'BR' ? 1 : child.textContent.length)
    }
    return n
  }
  return null
}

function whole () {
  return Array.from(text.childNodes).map(c => c.nodeName === 'BR' ? '\n' : c.textContent).join('')
}

if (text && passage && after) {
  document.addEventListener('selectionchange', () => {
    const selection = document.getSelection()
    if (!selection || selection.rangeCount === 0 || selection.isCollapsed) return
    const range = selection.getRangeAt(0)
    if (!text.contains(range.startContainer) || !text.contains(range.endContainer)) return
    const start = position(range.startContainer, range.startOffset)
    const end = position(range.endContainer, range.endOffset)
    if (start === null || end === null || end <= start) return
    passage.value = whole().slice(start, end)
    after.value = String(start)
    if (status) status.textContent = `Selected characters ${start} to ${end}.`
  })
}
