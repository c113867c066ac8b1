package worker

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/houqin/houqin/workflows"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
)

// RegisterSearchAttributes adds to namespace ns the business search
// attributes (workflows.SearchAttributes) it lacks. It is idempotent; an
// attribute registered with another type is an error naming it, which an
// operator resolves by hand (Temporal cannot change a type in place).
func RegisterSearchAttributes(ctx context.Context, c client.Client, ns string) error {
	missing, err := missingSearchAttributes(ctx, c, ns)
	if err != nil || len(missing) == 0 {
		return err
	}
	_, err = c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace: ns, SearchAttributes: missing})
	if err != nil {
		return fmt.Errorf("register search attributes %s in namespace %s: %w", names(missing), ns, err)
	}
	return nil
}

// CheckSearchAttributes returns an error naming the business search
// attributes namespace ns lacks, and the command that registers them: a
// workflow that upserts an unregistered attribute fails its workflow task
// over and over, so a worker refuses to start instead.
func CheckSearchAttributes(ctx context.Context, c client.Client, ns string) error {
	missing, err := missingSearchAttributes(ctx, c, ns)
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		return fmt.Errorf("namespace %s lacks the search attributes %s: run 'houqin search-attributes --address HOST:PORT --namespace %s' once (docs/OPERATIONS.md)",
			ns, names(missing), ns)
	}
	return nil
}

// missingSearchAttributes lists the business search attributes that ns
// lacks; one registered with another type is an error.
func missingSearchAttributes(ctx context.Context, c client.Client, ns string) (map[string]enumspb.IndexedValueType, error) {
	have, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: ns})
	if err != nil {
		return nil, fmt.Errorf("list the search attributes of namespace %s: %w", ns, err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	for name, want := range workflows.SearchAttributes() {
		got, ok := have.GetCustomAttributes()[name]
		switch {
		case !ok:
			missing[name] = want
		case got != want:
			return nil, fmt.Errorf("namespace %s: search attribute %s is a %s, houqin needs a %s", ns, name, got, want)
		}
	}
	return missing, nil
}

func names(m map[string]enumspb.IndexedValueType) string {
	return strings.Join(slices.Sorted(maps.Keys(m)), ", ")
}
