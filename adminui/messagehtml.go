package adminui

import (
	"html/template"

	"github.com/microcosm-cc/bluemonday"
)

// messagePolicy is what an HTML message may keep: text formatting, lists,
// quotes, tables and links to http, https and mailto addresses. Stricter
// than bluemonday's UGC policy: no images (the pages' CSP would block
// outside ones anyway), no id, class or style attributes (a message must
// not restyle the page or clobber its ids), no relative links into the
// hub. Scripts, styles and event handlers never survive; links get
// rel="nofollow noreferrer" and, when they leave the hub, target="_blank"
// with rel="noopener". A policy is safe for concurrent use once built.
var messagePolicy = func() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements("p", "br", "div", "span", "b", "strong", "i", "em", "u", "s", "strike", "del", "ins", "mark",
		"small", "sub", "sup", "code", "pre", "kbd", "blockquote", "q", "ul", "ol", "li", "dl", "dt", "dd", "hr",
		"h1", "h2", "h3", "h4", "h5", "h6", "table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td")
	p.AllowAttrs("href").OnElements("a")
	p.AllowURLSchemes("http", "https", "mailto")
	p.AllowRelativeURLs(false)
	p.RequireNoFollowOnLinks(true)
	p.RequireNoReferrerOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	return p
}()

// messageHTML is an HTML message's content made safe to show as markup.
func messageHTML(content string) template.HTML {
	return template.HTML(messagePolicy.Sanitize(content))
}
