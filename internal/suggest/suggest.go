// Package suggest finds the name someone probably meant: "did you mean"
// hints for config keys, settings and function names.
package suggest

import "strings"

// Distance is the Levenshtein edit distance between two strings, counted
// in runes.
func Distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// Closest returns the candidate nearest to word, compared without regard
// to case, if its distance is below limit; "" otherwise. Ties go to the
// candidate that sorts first, so the hint does not vary between runs.
func Closest(word string, candidates []string, limit int) string {
	best, bestD := "", limit
	w := strings.ToLower(word)
	for _, c := range candidates {
		d := Distance(w, strings.ToLower(c))
		if d < bestD || (d == bestD && best != "" && c < best) {
			best, bestD = c, d
		}
	}
	return best
}
