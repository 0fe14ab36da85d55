import Foundation
import MemifyCore
import GraphStore
import SessionCache
import Extraction
import Pipeline
import MemifyTools

/// `graph render`: one self-contained HTML page (no network: the drawing code is inlined), a
/// force layout on a `<canvas>`, nodes coloured by type, a search box over names, a node's text
/// (a chunk's question and answer, a summary, an entity's description) and neighbours on click.
/// The data goes into a `<script type="application/json">` with every `<` escaped, so no text
/// of the graph can close the script or open markup. The page's script sets
/// `window.graphCounts = {nodes, edges, totalNodes, totalEdges}`, `document.title` and the
/// body's `data-nodes`/`data-edges` attributes once it has drawn, for tests and tools.
struct GraphRenderPage {
    var title: String
    var maxNodes: Int
    var totalNodes: Int
    var totalEdges: Int
    var pageSize = 2_000

    /// Returns the numbers of nodes and edges drawn.
    func write(_ reader: any GraphReader, to sink: ByteSink) async throws -> (Int, Int) {
        let palette = JSONValue.object(JSONObject(GraphPalette.known.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))
        let (head, tail) = Self.template()
        sink.write(head.replacingOccurrences(of: "__TITLE__", with: XMLText.escape(title)))
        let header = JSONObject([("title", .string(title)), ("palette", palette), ("others", .array(GraphPalette.others.map(JSONValue.string))),
                                 ("total", .object(JSONObject([("nodes", .number(JSONNumber(totalNodes))), ("edges", .number(JSONNumber(totalEdges)))])))])
        var opening = Self.scriptSafe(JSONWriter.string(.object(header), style: .compact))
        opening.removeLast()  // the closing brace: the rows follow
        sink.write(opening + ",\"nodes\":[")
        var index: [String: Int] = [:]
        var after: String?
        outer: while index.count < maxNodes {
            try Task.checkCancellation()
            let page = try await reader.nodePage(after: after, limit: min(pageSize, maxNodes - index.count))
            for stored in page {
                let node = stored.node
                let row = JSONValue.array([.string(node.id), .string(GraphJSON.label(of: node)), .string(node.type),
                                           .string(GraphJSON.text(of: node)), .string(node.name)])
                sink.write((index.isEmpty ? "" : ",") + Self.scriptSafe(JSONWriter.string(row, style: .compact)))
                index[node.id] = index.count
                if index.count == maxNodes { break outer }
            }
            guard !page.isEmpty, let last = page.last else { break }
            after = last.node.id
        }
        sink.write("],\"edges\":[")
        var edges = 0
        var afterEdge: GraphEdge.Key?
        while true {
            try Task.checkCancellation()
            let page = try await reader.edgePage(after: afterEdge, limit: pageSize)
            for stored in page {
                guard let s = index[stored.edge.sourceID], let t = index[stored.edge.targetID] else { continue }
                let row = JSONValue.array([.number(JSONNumber(s)), .number(JSONNumber(t)), .string(stored.edge.relationshipName)])
                sink.write((edges == 0 ? "" : ",") + Self.scriptSafe(JSONWriter.string(row, style: .compact)))
                edges += 1
            }
            guard page.count == pageSize, let last = page.last else { break }
            afterEdge = last.edge.key
        }
        sink.write("]}")
        sink.write(tail)
        return (index.count, edges)
    }

    /// JSON that can sit inside a `<script>` element: `<` only occurs inside JSON strings, where
    /// `\u003c` means the same.
    static func scriptSafe(_ json: String) -> String { json.replacingOccurrences(of: "<", with: "\\u003c") }

    /// The page before and after the data.
    static func template() -> (String, String) {
        let parts = page.components(separatedBy: "/*DATA*/")
        return (parts[0], parts[1])
    }

    static let page = #"""
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>__TITLE__</title>
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <style>
        html,body{margin:0;height:100%;overflow:hidden;font:13px system-ui,-apple-system,sans-serif;background:#fbfbfb;color:#222}
        #bar{position:absolute;top:0;left:0;right:0;height:40px;display:flex;gap:12px;align-items:center;padding:0 12px;background:#fff;border-bottom:1px solid #ddd;z-index:2;white-space:nowrap;overflow:hidden}
        #bar input{width:220px;padding:4px 6px}
        #legend span{display:inline-flex;align-items:center;margin-right:10px;cursor:default}
        #legend i{width:10px;height:10px;border-radius:50%;display:inline-block;margin-right:4px}
        canvas{position:absolute;top:41px;left:0;cursor:grab}
        #panel{position:absolute;top:52px;right:12px;width:380px;max-height:calc(100% - 80px);overflow:auto;background:#fff;border:1px solid #ccc;border-radius:6px;padding:10px 12px;display:none;z-index:2;box-shadow:0 2px 8px rgba(0,0,0,.12)}
        #panel h3{margin:0 0 4px;font-size:14px;word-break:break-word}
        #panel .type{font-size:12px;color:#666;margin-bottom:8px}
        #panel pre{white-space:pre-wrap;word-break:break-word;background:#f5f5f5;padding:8px;border-radius:4px;font:12px ui-monospace,monospace}
        #panel ul{padding-left:16px;margin:4px 0}
        #panel a{color:#1a5fb4;cursor:pointer}
        #close{float:right;cursor:pointer;border:none;background:none;font-size:16px}
        </style></head><body>
        <div id="bar"><strong id="heading"></strong><input id="search" type="search" placeholder="search by name…" aria-label="search nodes by name"><span id="matches"></span><span id="legend"></span></div>
        <canvas id="view"></canvas>
        <div id="panel"></div>
        <script id="graph-data" type="application/json">/*DATA*/</script>
        <script>
        (function () {
          "use strict";
          var data = JSON.parse(document.getElementById("graph-data").textContent);
          var N = data.nodes.length, E = data.edges.length;
          var nodes = data.nodes.map(function (n) {
            return { id: n[0], label: n[1], type: n[2], text: n[3], name: n[4], x: 0, y: 0, vx: 0, vy: 0, deg: 0, adj: [] };
          });
          var edges = data.edges.map(function (e, i) {
            nodes[e[0]].deg++; nodes[e[1]].deg++;
            nodes[e[0]].adj.push(i); if (e[1] !== e[0]) nodes[e[1]].adj.push(i);
            return { s: e[0], t: e[1], rel: e[2] };
          });
          function color(type) {
            if (data.palette[type]) return data.palette[type];
            var h = 2166136261;
            var bytes = unescape(encodeURIComponent(type));
            for (var i = 0; i < bytes.length; i++) { h = Math.imul(h ^ bytes.charCodeAt(i), 16777619) >>> 0; }
            return data.others[h % data.others.length];
          }

          var heading = document.getElementById("heading");
          heading.textContent = N + " nodes, " + E + " edges" +
            (N < data.total.nodes ? " (of " + data.total.nodes + " nodes and " + data.total.edges + " edges: raise --max-nodes)" : "");
          var types = {};
          nodes.forEach(function (n) { types[n.type] = (types[n.type] || 0) + 1; });
          var legend = document.getElementById("legend");
          Object.keys(types).sort().forEach(function (t) {
            var span = document.createElement("span"), dot = document.createElement("i");
            dot.style.background = color(t);
            span.appendChild(dot); span.appendChild(document.createTextNode(t + " " + types[t]));
            legend.appendChild(span);
          });

          // Layout: seeded start, then a force simulation (all pairs up to 1500 nodes, sampled above).
          var seed = 42;
          function rnd() { seed = (seed * 16807) % 2147483647; return (seed - 1) / 2147483646; }
          var R = 25 * Math.sqrt(N + 1);
          nodes.forEach(function (n) { var a = rnd() * 2 * Math.PI, r = R * Math.sqrt(rnd()); n.x = r * Math.cos(a); n.y = r * Math.sin(a); });
          var alpha = 1;
          function tick() {
            var i, j, a, b, dx, dy, d2, f, d;
            if (N <= 1500) {
              for (i = 0; i < N; i++) {
                a = nodes[i];
                for (j = i + 1; j < N; j++) {
                  b = nodes[j]; dx = a.x - b.x; dy = a.y - b.y; d2 = dx * dx + dy * dy;
                  if (d2 < 1) { dx = rnd() - 0.5; dy = rnd() - 0.5; d2 = 1; }
                  if (d2 > 250000) continue;
                  f = 900 * alpha / d2; a.vx += dx * f; a.vy += dy * f; b.vx -= dx * f; b.vy -= dy * f;
                }
              }
            } else {
              var scale = N / 40;
              for (i = 0; i < N; i++) {
                a = nodes[i];
                for (j = 0; j < 40; j++) {
                  b = nodes[(rnd() * N) | 0]; if (a === b) continue;
                  dx = a.x - b.x; dy = a.y - b.y; d2 = dx * dx + dy * dy; if (d2 < 1) d2 = 1;
                  f = 900 * alpha * scale / d2 / 2; if (f > 1) f = 1; a.vx += dx * f; a.vy += dy * f;
                }
              }
            }
            for (i = 0; i < E; i++) {
              a = nodes[edges[i].s]; b = nodes[edges[i].t]; if (a === b) continue;
              dx = b.x - a.x; dy = b.y - a.y; d = Math.sqrt(dx * dx + dy * dy) || 0.01;
              f = (d - 40) * 0.04 * alpha / d; a.vx += dx * f; a.vy += dy * f; b.vx -= dx * f; b.vy -= dy * f;
            }
            for (i = 0; i < N; i++) {
              a = nodes[i];
              if (a === dragging) { a.vx = a.vy = 0; continue; }
              a.vx -= a.x * 0.004 * alpha; a.vy -= a.y * 0.004 * alpha;
              a.vx *= 0.6; a.vy *= 0.6; a.x += a.vx; a.y += a.vy;
            }
            alpha *= 0.98;
          }

          var canvas = document.getElementById("view"), ctx = canvas.getContext("2d");
          var W = 0, H = 0, dpr = window.devicePixelRatio || 1, zoom = 1, panX = 0, panY = 0, fitted = false;
          var selected = null, dragging = null, query = "", matches = [];
          function radius(n) { return 4 + Math.min(8, Math.sqrt(n.deg)); }
          function sx(x) { return W / 2 + x * zoom + panX; }
          function sy(y) { return H / 2 + y * zoom + panY; }
          function fit() {
            if (!N) return;
            var x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
            nodes.forEach(function (n) { x0 = Math.min(x0, n.x); x1 = Math.max(x1, n.x); y0 = Math.min(y0, n.y); y1 = Math.max(y1, n.y); });
            zoom = Math.min(4, 0.9 * Math.min(W / Math.max(1, x1 - x0), H / Math.max(1, y1 - y0)));
            panX = -(x0 + x1) / 2 * zoom; panY = -(y0 + y1) / 2 * zoom;
          }
          function draw() {
            if (!fitted) fit();
            ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
            ctx.fillStyle = "#fbfbfb"; ctx.fillRect(0, 0, W, H);
            var near = selected ? selected.adj : null, i, n;
            ctx.lineWidth = 1;
            ctx.strokeStyle = "rgba(120,120,120,0.35)";
            ctx.beginPath();
            for (i = 0; i < E; i++) {
              var a = nodes[edges[i].s], b = nodes[edges[i].t];
              ctx.moveTo(sx(a.x), sy(a.y)); ctx.lineTo(sx(b.x), sy(b.y));
            }
            ctx.stroke();
            if (near) {
              ctx.strokeStyle = "rgba(26,95,180,0.9)"; ctx.lineWidth = 2; ctx.beginPath();
              near.forEach(function (k) { var a = nodes[edges[k].s], b = nodes[edges[k].t]; ctx.moveTo(sx(a.x), sy(a.y)); ctx.lineTo(sx(b.x), sy(b.y)); });
              ctx.stroke();
            }
            var dim = query && matches.length;
            for (i = 0; i < N; i++) {
              n = nodes[i];
              ctx.globalAlpha = dim && !n.match ? 0.25 : 1;
              ctx.beginPath(); ctx.arc(sx(n.x), sy(n.y), radius(n) * Math.max(0.6, Math.min(zoom, 2)), 0, 2 * Math.PI);
              ctx.fillStyle = color(n.type); ctx.fill();
              if (n === selected || n.match) { ctx.lineWidth = 3; ctx.strokeStyle = n === selected ? "#000" : "#d00"; ctx.stroke(); }
            }
            ctx.globalAlpha = 1;
            ctx.fillStyle = "#222"; ctx.font = "11px system-ui,sans-serif";
            for (i = 0; i < N; i++) {
              n = nodes[i];
              if (n === selected || n.match || (zoom > 1.2 && n.type !== "DocumentChunk" && n.type !== "TextSummary") || N < 60) {
                ctx.fillText(n.label, sx(n.x) + radius(n) + 3, sy(n.y) + 4);
              }
            }
          }
          function resize() {
            W = window.innerWidth || 1024; H = Math.max(100, (window.innerHeight || 768) - 41);
            canvas.width = W * dpr; canvas.height = H * dpr; canvas.style.width = W + "px"; canvas.style.height = H + "px";
            draw();
          }

          // Search by name (the label for nameless nodes); Enter centres on the first match.
          var search = document.getElementById("search"), matchesLabel = document.getElementById("matches");
          search.addEventListener("input", function () {
            query = search.value.trim().toLowerCase(); matches = [];
            nodes.forEach(function (n) { n.match = !!query && (n.name || n.label).toLowerCase().indexOf(query) >= 0; if (n.match) matches.push(n); });
            matchesLabel.textContent = query ? matches.length + " match" + (matches.length === 1 ? "" : "es") : "";
            draw();
          });
          search.addEventListener("keydown", function (ev) {
            if (ev.key === "Enter" && matches.length) { var n = matches[0]; fitted = true; panX = -n.x * zoom; panY = -n.y * zoom; select(n); }
          });

          // The panel: a node's type, name, text and neighbours.
          var panel = document.getElementById("panel");
          function select(n) {
            selected = n;
            panel.textContent = "";
            if (!n) { panel.style.display = "none"; draw(); return; }
            var close = document.createElement("button"); close.id = "close"; close.textContent = "×"; close.onclick = function () { select(null); };
            var h = document.createElement("h3"); h.textContent = n.name || n.label;
            var t = document.createElement("div"); t.className = "type"; t.textContent = n.type + " · " + n.id;
            panel.appendChild(close); panel.appendChild(h); panel.appendChild(t);
            if (n.text) { var pre = document.createElement("pre"); pre.textContent = n.text; panel.appendChild(pre); }
            if (n.adj.length) {
              var ul = document.createElement("ul");
              n.adj.slice(0, 200).forEach(function (k) {
                var e = edges[k], out = nodes[e.s] === n, other = nodes[out ? e.t : e.s];
                var li = document.createElement("li"), a = document.createElement("a");
                a.textContent = other.label; a.onclick = function () { select(other); };
                li.appendChild(document.createTextNode(out ? e.rel + " → " : "← " + e.rel + " ")); li.appendChild(a);
                ul.appendChild(li);
              });
              panel.appendChild(ul);
            }
            panel.style.display = "block";
            draw();
          }
          window.graphSelect = function (id) { for (var i = 0; i < N; i++) if (nodes[i].id === id) { select(nodes[i]); return true; } return false; };

          function hit(x, y) {
            var best = null, bd = 144;
            nodes.forEach(function (n) { var dx = sx(n.x) - x, dy = sy(n.y) - y, d = dx * dx + dy * dy; if (d < bd) { bd = d; best = n; } });
            return best;
          }
          var down = null, moved = false;
          canvas.addEventListener("mousedown", function (ev) { down = { x: ev.offsetX, y: ev.offsetY, px: panX, py: panY }; moved = false; dragging = hit(ev.offsetX, ev.offsetY); });
          window.addEventListener("mousemove", function (ev) {
            if (!down) return;
            var dx = ev.offsetX - down.x, dy = ev.offsetY - down.y;
            if (Math.abs(dx) + Math.abs(dy) > 3) moved = true;
            fitted = true;
            if (dragging) { dragging.x = (ev.offsetX - W / 2 - panX) / zoom; dragging.y = (ev.offsetY - H / 2 - panY) / zoom; }
            else { panX = down.px + dx; panY = down.py + dy; }
            draw();
          });
          window.addEventListener("mouseup", function (ev) {
            if (down && !moved) select(hit(ev.offsetX, ev.offsetY));
            down = null; dragging = null;
          });
          canvas.addEventListener("wheel", function (ev) {
            ev.preventDefault(); fitted = true;
            var f = Math.exp(-ev.deltaY * 0.0015), mx = ev.offsetX - W / 2, my = ev.offsetY - H / 2;
            panX = mx - (mx - panX) * f; panY = my - (my - panY) * f; zoom *= f; draw();
          }, { passive: false });
          window.addEventListener("keydown", function (ev) { if (ev.key === "Escape") select(null); });
          window.addEventListener("resize", resize);

          // Lay out before the first frame (bounded time), draw, then let it settle animated.
          var start = Date.now();
          while (alpha > 0.05 && Date.now() - start < 1500) tick();
          resize();
          window.graphCounts = { nodes: N, edges: E, totalNodes: data.total.nodes, totalEdges: data.total.edges };
          document.title = data.title + ": " + N + " nodes, " + E + " edges";
          document.body.setAttribute("data-nodes", String(N));
          document.body.setAttribute("data-edges", String(E));
          function frame() { if (alpha > 0.02) { tick(); draw(); requestAnimationFrame(frame); } }
          requestAnimationFrame(frame);
        })();
        </script>
        </body></html>

        """#
}
