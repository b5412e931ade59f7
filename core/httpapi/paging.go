package httpapi

import (
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/switchboardhq/switchboard/core/domain"
)

// pageFrom reads ?limit= (default 50; more than 500 gives 500) and ?cursor=.
func pageFrom(c *gin.Context) (domain.Page, error) {
	p := domain.Page{Limit: 50, Cursor: c.Query("cursor")}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return p, errBadRequest("limit must be a whole number from 1 to 500")
		}
		p.Limit = min(n, 500)
	}
	if len(p.Cursor) > 64 {
		return p, errBadRequest("cursor is not one this API returned")
	}
	return p, nil
}

// listJSON wraps a page: {"<key>": [...], "nextCursor": "…"} while more remain.
func listJSON[T any](key string, items []T, next string) gin.H {
	out := gin.H{key: items}
	if next != "" {
		out["nextCursor"] = next
	}
	return out
}

// mapAll converts each item of a page to its wire form.
func mapAll[T, R any](items []T, f func(T) R) []R {
	out := make([]R, len(items))
	for i, it := range items {
		out[i] = f(it)
	}
	return out
}
