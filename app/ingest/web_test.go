package ingest

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// webArticle is a small blog page: site chrome (header, nav, sidebar,
// footer), scripts, an HTML comment and a comment section surround the
// article, whose headings, paragraphs, list, table, pre and blockquote
// must come out in document order.
const webArticle = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Understanding Go Channels | Gopher Notes</title>
<meta property="og:site_name" content="Gopher Notes">
<style>body{font-family:sans-serif}</style>
<script>var tracking = "<p>tracked by script</p>";</script>
</head><body>
<header class="site-header"><a href="/">Gopher Notes</a><nav><ul><li><a href="/">Home</a></li><li><a href="/about">About us</a></li></ul></nav></header>
<div class="layout">
<aside class="sidebar"><h3>Popular posts</h3><ul><li><a href="/a">Ten tips</a></li><li><a href="/b">Generics</a></li></ul></aside>
<main>
<article>
<h1>Understanding Go Channels</h1>
<p>Channels are the pipes that connect concurrent goroutines. You can send values into channels from one goroutine and receive those values into another goroutine, which makes them the primary tool for communication in Go programs.</p>
<h2>Creating a channel</h2>
<p>A channel is created with the built-in <code>make</code> function, for example <code>make(chan int)</code>. By default sends and receives block until both the sender and the receiver are ready, which lets goroutines synchronise without explicit locks or condition variables.</p>
<!-- an HTML comment that must not appear -->
<ul>
<li>Unbuffered channels synchronise sender and receiver.</li>
<li>Buffered channels accept a <em>limited</em> number of values without a receiver.</li>
</ul>
<h2>Channel operations</h2>
<table>
<thead><tr><th>Operation</th><th>Nil channel</th><th>Closed channel</th></tr></thead>
<tbody>
<tr><td>Send</td><td>blocks forever</td><td>panics</td></tr>
<tr><td>Receive</td><td>blocks forever</td><td>zero value</td></tr>
</tbody>
</table>
<p>Closing a channel signals that no more values will be sent on it, and a range loop over the channel ends once the channel is closed and drained.</p>
<pre>ch := make(chan int, 2)
ch &lt;- 1</pre>
<blockquote>Do not communicate by sharing memory; instead, share memory by communicating.</blockquote>
</article>
<section id="comments" class="comments">
<h3>3 Comments</h3>
<div class="comment"><p>Great article, thanks a lot for writing this up!</p></div>
<div class="comment"><p>First! Spam spam spam.</p></div>
</section>
</main>
</div>
<footer class="site-footer"><p>© 2026 Gopher Notes. All rights reserved.</p></footer>
<script>console.log("bye")</script>
</body></html>`

// checkWebChunks asserts that doc holds exactly texts as dense web_content
// chunks with empty metadata.
func checkWebChunks(t *testing.T, doc *SourceDocument, texts []string) {
	t.Helper()
	got := make([]string, len(doc.Chunks))
	for i, c := range doc.Chunks {
		got[i] = c.Text
		if c.ChunkType != ChunkWebContent || c.Index != i || c.Metadata != (ChunkMetadata{}) {
			t.Errorf("chunk %d = %+v, want web_content with index %d and no metadata", i, c, i)
		}
	}
	if strings.Join(got, "\n---\n") != strings.Join(texts, "\n---\n") {
		t.Fatalf("chunks:\n%q\nwant:\n%q", got, texts)
	}
}

func TestWebArticle(t *testing.T) {
	doc, err := ExtractWeb([]byte(webArticle), "https://gopher.example/go-channels",
		"https://gopher.example/posts/go-channels", "text/html; charset=utf-8")
	if err != nil {
		t.Fatal(err)
	}
	if doc.SourceType != "web" || doc.SourceURL != "https://gopher.example/go-channels" {
		t.Errorf("source = %q %q", doc.SourceType, doc.SourceURL)
	}
	if doc.Title != "Understanding Go Channels | Gopher Notes" {
		t.Errorf("title = %q", doc.Title)
	}
	checkWebChunks(t, doc, []string{
		"Channels are the pipes that connect concurrent goroutines. You can send values into channels from one goroutine and receive those values into another goroutine, which makes them the primary tool for communication in Go programs.",
		"Creating a channel",
		"A channel is created with the built-in make function, for example make(chan int). By default sends and receives block until both the sender and the receiver are ready, which lets goroutines synchronise without explicit locks or condition variables.",
		"Unbuffered channels synchronise sender and receiver.",
		"Buffered channels accept a limited number of values without a receiver.",
		"Channel operations",
		"Operation | Nil channel | Closed channel",
		"Send | blocks forever | panics",
		"Receive | blocks forever | zero value",
		"Closing a channel signals that no more values will be sent on it, and a range loop over the channel ends once the channel is closed and drained.",
		"ch := make(chan int, 2)\nch <- 1",
		"Do not communicate by sharing memory; instead, share memory by communicating.",
	})
	js, err := Canonical(doc)
	if err != nil {
		t.Fatal(err)
	}
	for _, dropped := range []string{"Home", "About us", "Popular posts", "Ten tips", "tracked by script",
		"console.log", "HTML comment", "Comments", "Great article", "Spam", "All rights reserved", "font-family"} {
		if strings.Contains(string(js), dropped) {
			t.Errorf("document contains dropped text %q", dropped)
		}
	}
}

func TestWebNestedBlocks(t *testing.T) {
	page := `<html><head><title>Lists and quotes</title></head><body><article>
<p>Intro paragraph long enough, with commas, to make readability happy about it, and then some more words.</p>
<ul><li>Outer<br>item<ul><li>Inner item</li></ul></li><li><p>Para in item</p></li></ul>
<blockquote><p>Quote one.</p><p>Quote two.</p></blockquote>
<p>Line one<br>line   two <svg viewBox="0 0 8 8"><title>icon title</title><text>svg text</text></svg>x<sup>2</sup> = <math><mi>y</mi></math></p>
<div>Loose div text, with commas, that is long enough to count as content, really it is.</div>
</article></body></html>`
	doc, err := ExtractWeb([]byte(page), "https://x.example/", "https://x.example/", "application/xhtml+xml")
	if err != nil {
		t.Fatal(err)
	}
	if doc.Title != "Lists and quotes" {
		t.Errorf("title = %q", doc.Title)
	}
	checkWebChunks(t, doc, []string{
		"Intro paragraph long enough, with commas, to make readability happy about it, and then some more words.",
		"Outer item", "Inner item", "Para in item", "Quote one.", "Quote two.", "Line one line two x2 = y",
		"Loose div text, with commas, that is long enough to count as content, really it is.",
	})
}

func TestWebPlain(t *testing.T) {
	body := "  Release notes 2.0\r\nSecond line of the first block\r\n\r\n \t\n<p>Not parsed as HTML</p>\n\n\nLast block.  \n"
	doc, err := ExtractWeb([]byte(body), "https://x.example/notes", "https://x.example/notes.txt", "text/plain; charset=utf-8")
	if err != nil {
		t.Fatal(err)
	}
	checkWebChunks(t, doc, []string{
		"Release notes 2.0\nSecond line of the first block",
		"<p>Not parsed as HTML</p>",
		"Last block.",
	})
	if doc.Title != "Release notes 2.0" {
		t.Errorf("title = %q, want the first line", doc.Title)
	}
	if doc.Metadata != (DocMetadata{FinalURL: "https://x.example/notes.txt", ContentType: "text/plain"}) {
		t.Errorf("metadata = %+v", doc.Metadata)
	}
}

func TestWebCharset(t *testing.T) {
	latin1 := []byte("<html><head><title>Caf\xe9 cr\xe8me</title></head><body><article>" +
		"<p>Le caf\xe9 cr\xe8me se boit \xe0 toute heure, m\xeame tr\xe8s tard, et il co\xfbte 3\xa0\xe9cus \xab au comptoir \xbb.</p>" +
		"</article></body></html>")
	want := "Le café crème se boit à toute heure, même très tard, et il coûte 3\u00a0écus « au comptoir »."

	doc, err := ExtractWeb(latin1, "https://fr.example/", "https://fr.example/", `text/html; charset="ISO-8859-1"`)
	if err != nil {
		t.Fatal(err)
	}
	if doc.Title != "Café crème" {
		t.Errorf("title = %q", doc.Title)
	}
	checkWebChunks(t, doc, []string{collapse(want)})

	// Without a usable charset the bytes are taken as UTF-8 and invalid
	// sequences replaced.
	for _, ct := range []string{"text/html", "text/html; charset=x-no-such-charset", "text/html; charset=utf-8"} {
		doc, err := ExtractWeb(latin1, "https://fr.example/", "https://fr.example/", ct)
		if err != nil {
			t.Fatalf("%s: %v", ct, err)
		}
		text := doc.Chunks[0].Text
		if !utf8.ValidString(text) || !utf8.ValidString(doc.Title) ||
			!strings.HasPrefix(text, "Le caf\uFFFD cr\uFFFDme") {
			t.Errorf("%s: text = %q title = %q", ct, text, doc.Title)
		}
	}

	// A UTF-8 byte-order mark is not part of the text.
	doc, err = ExtractWeb([]byte("\xef\xbb\xbfhello\n\nworld"), "u", "u", "text/plain")
	if err != nil {
		t.Fatal(err)
	}
	checkWebChunks(t, doc, []string{"hello", "world"})
}

func TestWebNoReadableContent(t *testing.T) {
	cases := map[string]struct{ body, contentType string }{
		"empty html":       {"", "text/html"},
		"chrome only":      {`<html><head><title>Nothing here</title><script>run()</script><style>p{}</style></head><body><nav><a href="/">Home</a></nav><div>   </div><!-- only a comment --></body></html>`, "text/html; charset=utf-8"},
		"image only":       {`<img src="a.png"><nav>Menu</nav>`, "text/html"},
		"blank plain text": {" \r\n\t\n\n  ", "text/plain"},
		"nested too deep":  {strings.Repeat("<div>", 600) + "<p>Deep text, with commas, long enough to be content.</p>", "text/html"},
	}
	for name, c := range cases {
		doc, err := ExtractWeb([]byte(c.body), "https://x.example/", "https://x.example/", c.contentType)
		if doc != nil || !IsPermanent(err) || err.Error() != "No readable content extracted" {
			t.Errorf("%s: got %v, %v; want permanent %q", name, doc, err, MsgNoReadable)
		}
	}
}

func TestWebMetadata(t *testing.T) {
	page := `<html><head><title>Docs</title><meta property="og:site_name" content="  Example   Site "></head>
<body><article><p>Some documentation text, long enough and with commas, to be the main content of this page.</p></article></body></html>`
	doc, err := ExtractWeb([]byte(page), "http://example.org/start", "https://example.org/final",
		"Text/HTML; Charset=UTF-8")
	if err != nil {
		t.Fatal(err)
	}
	js, err := Canonical(doc)
	if err != nil {
		t.Fatal(err)
	}
	const wantMeta = `"metadata":{"final_url":"https://example.org/final","content_type":"text/html","site_name":"Example Site"}}`
	if !strings.HasSuffix(string(js), wantMeta) {
		t.Errorf("canonical JSON %s\nwant suffix %s", js, wantMeta)
	}
	if !strings.Contains(string(js), `"chunk_type":"web_content","text":"Some documentation text`) ||
		!strings.Contains(string(js), `"index":0,"metadata":{}}`) {
		t.Errorf("chunk JSON wrong: %s", js)
	}

	// No site name: the key is omitted. A malformed Content-Type keeps its
	// media type. Without a title the final URL, else the source URL, is used.
	page = `<body><p>Untitled page text, long enough and with commas, to be the main content here.</p></body>`
	doc, err = ExtractWeb([]byte(page), "https://a.example/", "https://b.example/", "text/html;;bad")
	if err != nil {
		t.Fatal(err)
	}
	if doc.Metadata != (DocMetadata{FinalURL: "https://b.example/", ContentType: "text/html"}) || doc.Title != "https://b.example/" {
		t.Errorf("metadata = %+v title = %q", doc.Metadata, doc.Title)
	}
	if js, _ := Canonical(doc); strings.Contains(string(js), "site_name") {
		t.Errorf("site_name not omitted: %s", js)
	}
	doc, err = ExtractWeb([]byte(page), "https://a.example/", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if doc.Title != "https://a.example/" || doc.Metadata != (DocMetadata{}) {
		t.Errorf("metadata = %+v title = %q", doc.Metadata, doc.Title)
	}
}
