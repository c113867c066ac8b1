package reports

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/houqin/houqin"
	"github.com/houqin/houqin/projections"
	"github.com/xuri/excelize/v2"
)

// Tables are the tables of the inventory report a CSV can hold, the first
// the default; JSON and XLSX hold both.
var Tables = []string{"items", "movements"}

// InventoryLine is one item of the inventory table (库存管理表) over a
// period: the stock at its start, what came in, went out and was adjusted,
// and the stock at its end.
type InventoryLine struct {
	Item         string `json:"item"`
	NameZh       string `json:"name_zh"`
	NameEn       string `json:"name_en"`
	Unit         string `json:"unit"`
	Location     string `json:"location"`
	Opening      int64  `json:"opening"`
	In           int64  `json:"in"`
	Issued       int64  `json:"issued"`
	Adjusted     int64  `json:"adjusted"`
	Closing      int64  `json:"closing"`
	ReorderPoint int64  `json:"reorder_point"`
	Reorder      int64  `json:"reorder_quantity"`
	BelowReorder bool   `json:"below_reorder"` // at the end of the period
}

// Inventory is the inventory report: the table and the movements of the
// period [From, To).
type Inventory struct {
	From      string                 `json:"from,omitempty"` // RFC 3339; "" from the beginning
	To        string                 `json:"to,omitempty"`   // RFC 3339, exclusive; "" up to now
	Items     []InventoryLine        `json:"items"`
	Movements []projections.Movement `json:"movements"`
}

// NewInventory builds the report of [from, to) (zero: unbounded) from the
// items and every movement before to, in order.
func NewInventory(items []projections.StockRow, moves []projections.Movement, from, to time.Time) Inventory {
	rep := Inventory{Items: make([]InventoryLine, 0, len(items)), Movements: []projections.Movement{}}
	if !from.IsZero() {
		rep.From = from.Format(time.RFC3339)
	}
	if !to.IsZero() {
		rep.To = to.Format(time.RFC3339)
	}
	for _, it := range items {
		rep.Items = append(rep.Items, InventoryLine{Item: it.Item, NameZh: it.Names.Zh, NameEn: it.Names.En, Unit: it.Unit,
			Location: it.Location, ReorderPoint: it.ReorderPoint, Reorder: it.ReorderQuantity})
	}
	lines := map[string]*InventoryLine{} // by slug, into rep.Items, which no longer grows
	for i := range rep.Items {
		lines[houqin.ItemSlug(rep.Items[i].Item)] = &rep.Items[i]
	}
	fromText := ""
	if !from.IsZero() {
		fromText = from.UTC().Format(time.RFC3339Nano)
	}
	for _, m := range moves {
		l := lines[houqin.ItemSlug(m.Item)]
		if l == nil {
			continue
		}
		l.Closing = m.OnHand
		if fromText != "" && m.At < fromText {
			l.Opening = m.OnHand
			continue
		}
		rep.Movements = append(rep.Movements, m)
		switch m.Type {
		case "stocked_in":
			l.In += m.Quantity
		case "issued":
			l.Issued -= m.Quantity
		case "adjusted":
			l.Adjusted += m.Quantity
		}
	}
	for i := range rep.Items {
		l := &rep.Items[i]
		l.BelowReorder = l.ReorderPoint > 0 && l.Closing < l.ReorderPoint
	}
	return rep
}

// headers of the two tables, per language.
var (
	itemHeaders = map[string][]string{
		"zh-CN": {"物资", "中文名称", "英文名称", "单位", "库位", "期初库存", "入库", "发放", "盘点调整", "期末库存", "补货点", "补货量", "低于补货点"},
		"en":    {"Item", "Name (zh)", "Name (en)", "Unit", "Location", "Opening", "In", "Issued", "Adjusted", "Closing", "Reorder point", "Reorder quantity", "Below reorder point"},
	}
	movementHeaders = map[string][]string{
		"zh-CN": {"序号", "时间", "物资", "类型", "数量", "结存", "单位", "部门", "单据", "经办人"},
		"en":    {"Position", "Time", "Item", "Type", "Quantity", "On hand", "Unit", "Department", "Process", "Actor"},
	}
	movementTypes = map[string]map[string]string{
		"zh-CN": {"stocked_in": "入库", "issued": "发放", "adjusted": "盘点调整"},
		"en":    {"stocked_in": "Stocked in", "issued": "Issued", "adjusted": "Adjusted"},
	}
	sheetNames = map[string][2]string{"zh-CN": {"库存管理表", "出入库明细"}, "en": {"Inventory", "Movements"}}
	yesNo      = map[string][2]string{"zh-CN": {"否", "是"}, "en": {"no", "yes"}}
)

func (l InventoryLine) row(lang string) []any {
	below := yesNo[lang][0]
	if l.BelowReorder {
		below = yesNo[lang][1]
	}
	return []any{l.Item, l.NameZh, l.NameEn, l.Unit, l.Location, l.Opening, l.In, l.Issued, l.Adjusted, l.Closing, l.ReorderPoint, l.Reorder, below}
}

func movementRow(m projections.Movement, lang string) []any {
	typ := movementTypes[lang][m.Type]
	if typ == "" {
		typ = m.Type
	}
	return []any{m.Position, m.At, m.Item, typ, m.Quantity, m.OnHand, m.Unit, m.Department, m.ProcessID, m.Actor}
}

// Write writes the report in format with headers in lang; table picks the
// table of a CSV. Unknown values are EINVALID naming the parameter.
func (rep Inventory) Write(w io.Writer, format, lang, table string) error {
	if err := oneOf("format", &format, Formats); err != nil {
		return err
	}
	if err := oneOf("lang", &lang, Languages); err != nil {
		return err
	}
	if err := oneOf("table", &table, Tables); err != nil {
		return err
	}
	switch format {
	case "csv":
		return rep.writeCSV(w, lang, table)
	case "xlsx":
		return rep.writeXLSX(w, lang)
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(rep)
}

func oneOf(name string, v *string, allowed []string) error {
	if *v == "" {
		*v = allowed[0]
	}
	for _, a := range allowed {
		if *v == a {
			return nil
		}
	}
	return houqin.Errorf(houqin.EINVALID, "%s: must be one of %s, got %q", name, strings.Join(allowed, ", "), *v)
}

func text(v any) string {
	switch v := v.(type) {
	case int64:
		return strconv.FormatInt(v, 10)
	case string:
		return v
	}
	return ""
}

func (rep Inventory) writeCSV(w io.Writer, lang, table string) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	write := func(cells []any) error {
		rec := make([]string, len(cells))
		for i, c := range cells {
			rec[i] = text(c)
		}
		return cw.Write(rec)
	}
	if table == "movements" {
		if err := cw.Write(movementHeaders[lang]); err != nil {
			return err
		}
		for _, m := range rep.Movements {
			if err := write(movementRow(m, lang)); err != nil {
				return err
			}
		}
	} else {
		if err := cw.Write(itemHeaders[lang]); err != nil {
			return err
		}
		for _, l := range rep.Items {
			if err := write(l.row(lang)); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// writeXLSX writes two sheets: the table and the movements, numbers as
// numbers, each with a bold header row.
func (rep Inventory) writeXLSX(w io.Writer, lang string) error {
	f := excelize.NewFile()
	defer f.Close()
	names := sheetNames[lang]
	if err := f.SetSheetName("Sheet1", names[0]); err != nil {
		return err
	}
	if _, err := f.NewSheet(names[1]); err != nil {
		return err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	sheet := func(name string, header []string, rows [][]any) error {
		sw, err := f.NewStreamWriter(name)
		if err != nil {
			return err
		}
		head := make([]any, len(header))
		for i, h := range header {
			head[i] = excelize.Cell{StyleID: bold, Value: h}
		}
		if err := sw.SetRow("A1", head); err != nil {
			return err
		}
		for i, r := range rows {
			cell, _ := excelize.CoordinatesToCellName(1, i+2)
			if err := sw.SetRow(cell, r); err != nil {
				return err
			}
		}
		return sw.Flush()
	}
	items := make([][]any, len(rep.Items))
	for i, l := range rep.Items {
		items[i] = l.row(lang)
	}
	if err := sheet(names[0], itemHeaders[lang], items); err != nil {
		return err
	}
	moves := make([][]any, len(rep.Movements))
	for i, m := range rep.Movements {
		moves[i] = movementRow(m, lang)
	}
	if err := sheet(names[1], movementHeaders[lang], moves); err != nil {
		return err
	}
	_, err = f.WriteTo(w)
	return err
}
