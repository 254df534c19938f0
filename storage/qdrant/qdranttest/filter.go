package qdranttest

import (
	"fmt"
	"slices"

	qc "github.com/qdrant/go-client/qdrant"
)

// matches reports whether p passes filter f (nil passes everything). It
// knows must, should and must_not; field conditions with a keyword,
// integer, boolean, keywords or integers match, or a range; nested filters
// and has_id. Anything else is an error: the fake never guesses.
func matches(f *qc.Filter, p *point) (bool, error) {
	if f == nil {
		return true, nil
	}
	if f.GetMinShould() != nil {
		return false, fmt.Errorf("min_should is not supported")
	}
	for _, c := range f.GetMust() {
		ok, err := condition(c, p)
		if err != nil || !ok {
			return false, err
		}
	}
	for _, c := range f.GetMustNot() {
		ok, err := condition(c, p)
		if err != nil || ok {
			return false, err
		}
	}
	if len(f.GetShould()) == 0 {
		return true, nil
	}
	for _, c := range f.GetShould() {
		ok, err := condition(c, p)
		if err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

func condition(c *qc.Condition, p *point) (bool, error) {
	switch {
	case c.GetField() != nil:
		return field(c.GetField(), p)
	case c.GetFilter() != nil:
		return matches(c.GetFilter(), p)
	case c.GetHasId() != nil:
		for _, id := range c.GetHasId().GetHasId() {
			if idString(id) == p.id {
				return true, nil
			}
		}
		return false, nil
	default:
		return false, fmt.Errorf("condition %T is not supported", c.GetConditionOneOf())
	}
}

func field(fc *qc.FieldCondition, p *point) (bool, error) {
	v := p.payload[fc.GetKey()]
	switch {
	case fc.GetMatch() != nil && fc.GetRange() != nil:
		return false, fmt.Errorf("field %s: match and range in one condition", fc.GetKey())
	case fc.GetMatch() != nil:
		return match(fc.GetMatch(), v)
	case fc.GetRange() != nil:
		return inRange(fc.GetRange(), v), nil
	default:
		return false, fmt.Errorf("field %s: only match and range are supported", fc.GetKey())
	}
}

func match(m *qc.Match, v *qc.Value) (bool, error) {
	if v == nil {
		return false, nil
	}
	switch mv := m.GetMatchValue().(type) {
	case *qc.Match_Keyword:
		s, ok := v.GetKind().(*qc.Value_StringValue)
		return ok && s.StringValue == mv.Keyword, nil
	case *qc.Match_Integer:
		i, ok := v.GetKind().(*qc.Value_IntegerValue)
		return ok && i.IntegerValue == mv.Integer, nil
	case *qc.Match_Boolean:
		b, ok := v.GetKind().(*qc.Value_BoolValue)
		return ok && b.BoolValue == mv.Boolean, nil
	case *qc.Match_Keywords:
		s, ok := v.GetKind().(*qc.Value_StringValue)
		return ok && slices.Contains(mv.Keywords.GetStrings(), s.StringValue), nil
	case *qc.Match_Integers:
		i, ok := v.GetKind().(*qc.Value_IntegerValue)
		return ok && slices.Contains(mv.Integers.GetIntegers(), i.IntegerValue), nil
	default:
		return false, fmt.Errorf("match %T is not supported", mv)
	}
}

func inRange(r *qc.Range, v *qc.Value) bool {
	var x float64
	switch k := v.GetKind().(type) {
	case *qc.Value_IntegerValue:
		x = float64(k.IntegerValue)
	case *qc.Value_DoubleValue:
		x = k.DoubleValue
	default:
		return false
	}
	return (r.Lt == nil || x < *r.Lt) && (r.Gt == nil || x > *r.Gt) &&
		(r.Lte == nil || x <= *r.Lte) && (r.Gte == nil || x >= *r.Gte)
}

// tenantOf returns the tenant a filter pins with a must keyword match on
// field "tenant", or "" when it pins none.
func tenantOf(f *qc.Filter) string {
	for _, c := range f.GetMust() {
		fc := c.GetField()
		if fc.GetKey() != "tenant" {
			continue
		}
		if kw, ok := fc.GetMatch().GetMatchValue().(*qc.Match_Keyword); ok && kw.Keyword != "" {
			return kw.Keyword
		}
	}
	return ""
}

func idString(id *qc.PointId) string {
	if u := id.GetUuid(); u != "" {
		return u
	}
	return fmt.Sprintf("%d", id.GetNum())
}
