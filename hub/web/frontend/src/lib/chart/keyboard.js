// The chart from the keyboard (RGAA): the canvas container takes the focus; arrows move a
// "focused node" through the visible nodes in reading order (top to bottom, left to right),
// Début/Fin jump to the first/last, Entrée expands it (or opens a hit's panel), O opens its
// sheet, Espace adds it to (or removes it from) the selection used by "plus courts chemins",
// Échap clears the selection. A visually hidden live region says which node has the focus.
export const INSTRUCTIONS =
  "Graphe de liens. Flèches : passer d'un nœud à l'autre. Entrée : développer le nœud (ou ouvrir le panneau d'un hit). " +
  "O : ouvrir la fiche. Espace : sélectionner ou désélectionner (deux nœuds pour les plus courts chemins). " +
  "Échap : vider la sélection. Le tableau sous le graphe donne les mêmes nœuds.";

function readingOrder(cy) {
  return cy.nodes(":visible").sort((a, b) => {
    const pa = a.position();
    const pb = b.position();
    const rowA = Math.round(pa.y / 40);
    const rowB = Math.round(pb.y / 40);
    return rowA !== rowB ? rowA - rowB : pa.x - pb.x;
  });
}

export function keyboardLayer(cy, container, live, actions) {
  let focused = null;

  function describe(node) {
    const data = node.data();
    const links = node.connectedEdges(":visible").length;
    const state = [node.selected() ? "sélectionné" : "", node.hasClass("anchor") ? "point de départ" : "",
                   node.hasClass("expanded") ? "déjà développé" : ""].filter(Boolean).join(", ");
    return `${data.description} — ${links} lien(s)${state ? `, ${state}` : ""}.`;
  }

  function focus(node, { announce = true, center = true } = {}) {
    cy.nodes(".focused").removeClass("focused");
    focused = node && node.nonempty() ? node : null;
    if (!focused) return;
    focused.addClass("focused");
    if (center) {
      const ext = cy.extent();
      const { x, y } = focused.position();
      if (x < ext.x1 || x > ext.x2 || y < ext.y1 || y > ext.y2) cy.center(focused);
    }
    if (announce) live.textContent = describe(focused);
    actions.onFocus?.(focused);
  }

  function step(delta) {
    const order = readingOrder(cy);
    if (!order.length) return;
    const at = focused ? order.indexOf(focused) : -1;
    const next = at < 0 ? (delta > 0 ? 0 : order.length - 1) : (at + delta + order.length) % order.length;
    focus(order[next]);
  }

  container.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const order = () => readingOrder(cy);
    switch (event.key) {
      case "ArrowRight": case "ArrowDown": step(1); break;
      case "ArrowLeft": case "ArrowUp": step(-1); break;
      case "Home": focus(order()[0]); break;
      case "End": { const o = order(); focus(o[o.length - 1]); break; }
      case "Enter": if (focused) actions.onExpand(focused); else step(1); break;
      case "o": case "O": if (focused) actions.onOpen(focused); break;
      case " ": case "Spacebar":
        if (focused) {
          if (focused.selected()) focused.unselect(); else focused.select();
          live.textContent = describe(focused);
        }
        break;
      case "Escape": cy.nodes(":selected").unselect(); live.textContent = "Sélection vidée."; break;
      default: return;
    }
    event.preventDefault();
  });
  container.addEventListener("focus", () => {
    if (!focused || focused.removed() || !focused.visible()) focus(cy.nodes(".anchor").first().nonempty() ? cy.nodes(".anchor").first() : readingOrder(cy)[0]);
    else live.textContent = describe(focused);
  });
  cy.on("tap", "node", (event) => focus(event.target, { center: false }));

  return {
    focus,
    get focused() { return focused && !focused.removed() ? focused : null; },
    describe,
  };
}
