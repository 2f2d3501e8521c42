package llm

import (
	"fmt"

	"github.com/course-supporter/course-supporter/app/course"
)

// EmbeddingModel returns the model whose vectors are current: the first
// usable model of the embed action's default chain. Stored vectors are
// labelled with its provider model, and a vector from any other model
// (a fallback) is not comparable with them (docs/design/search.md).
// ok is false when no embedding model is usable; an error when the usable
// one does not produce EmbeddingDimensions-wide vectors.
func (r *Router) EmbeddingModel() (providerModel string, ok bool, err error) {
	a, found := r.o.Registry.Actions[course.ActionEmbed]
	if !found {
		return "", false, nil
	}
	for _, id := range a.Chains[course.StrategyDefault] {
		if !r.usable(a, id) {
			continue
		}
		m := r.o.Registry.Models[id]
		if m.Dimensions != EmbeddingDimensions {
			return "", false, fmt.Errorf("embedding model %s: %d dimensions, the column holds %d", id, m.Dimensions, EmbeddingDimensions)
		}
		return m.ProviderModel, true, nil
	}
	return "", false, nil
}
