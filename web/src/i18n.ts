import { createI18n } from 'vue-i18n'

// zh-CN first; en by the switch in the header, remembered in localStorage.
export const locales = ['zh-CN', 'en'] as const
export type Locale = (typeof locales)[number]

const messages = {
  'zh-CN': {
    app: { name: '后勤', title: '后勤管理', switchLanguage: 'English' },
    login: {
      title: '选择登录身份',
      hint: '开发环境：选择演示组织中的一位成员登录。',
      department: '部门',
      roles: '角色',
      signIn: '登录',
      signOut: '退出',
      failed: '登录失败：{detail}',
    },
    nav: { inbox: '待办', mine: '我的申请', kpi: '绩效指标' },
    inbox: {
      title: '待办',
      empty: '没有待办事项',
      process: '流程',
      step: '步骤',
      requester: '申请人',
      due: '截止',
      overdue: '已超时',
    },
    error: { unavailable: '服务暂不可用，请稍后重试' },
    kpi: {
      title: '后勤绩效指标',
      department: '部门（如 MKT）',
      download: '下载服务质量评估报告',
      target: '目标',
      status: { pass: '达标', fail: '未达标', no_data: '无数据' },
    },
    work: {
      supplier: '供应商',
      note: '备注',
      receiptHint: '本次到货数量（可分批到货）',
      invoiceNumber: '发票号码',
      invoiceAmount: '发票金额（元）',
      stockInHint: '货物已全部到齐，确认入库。',
      score: '满意度评分',
      surveyComment: '意见与建议',
      complete: { record_po: '下采购单', receive_goods: '确认到货', record_invoice: '登记发票', stock_in: '确认入库', respond: '提交评价' },
      done: '已完成',
    },
    start: {
      procurement: '采购申请',
      category: '预算科目',
      reason: '申请事由',
      neededBy: '需要日期',
      unit: '单位',
      addLine: '添加物品',
      removeLine: '删除',
      total: '合计',
      submit: '提交申请',
      route: '审批流程预览',
      auto: '自动通过',
      submitted: '已提交 {id}',
    },
    category: {
      office_supplies: '办公用品',
      equipment: '设备',
      travel: '差旅',
      events: '活动与会议',
      facilities: '设施维护',
      services: '服务',
      other: '其他',
    },
    mine: { empty: '还没有申请', withdraw: '撤回', withdrawn: '{id} 已撤回' },
    process: {
      id: '编号',
      status: '状态',
      department: '部门',
      amount: '金额',
      created: '提交时间',
      items: '采购明细',
      item: '物品',
      quantity: '数量',
      unitPrice: '单价',
      comment: '审批意见',
      approve: '同意',
      reject: '驳回',
      timeline: '流程记录',
      refused: '操作未成功：{detail}',
      reasonRequired: '驳回须填写理由',
      done: { approve: '已同意', reject: '已驳回' },
    },
    status: {
      running: '审批中',
      completed: '已完成',
      rejected: '已驳回',
      withdrawn: '已撤回',
      cancelled: '已取消',
      failed: '无法继续',
      terminated: '已终止',
    },
  },
  en: {
    app: { name: 'houqin', title: 'Logistics', switchLanguage: '中文' },
    login: {
      title: 'Sign in as',
      hint: 'Development: pick a member of the demo organisation.',
      department: 'Department',
      roles: 'Roles',
      signIn: 'Sign in',
      signOut: 'Sign out',
      failed: 'Sign-in failed: {detail}',
    },
    nav: { inbox: 'Inbox', mine: 'My requests', kpi: 'KPIs' },
    inbox: {
      title: 'Inbox',
      empty: 'Nothing to do',
      process: 'Process',
      step: 'Step',
      requester: 'Requester',
      due: 'Due',
      overdue: 'Overdue',
    },
    error: { unavailable: 'The service is unavailable; try again shortly' },
    kpi: {
      title: 'Logistics KPIs',
      department: 'Department (e.g. MKT)',
      download: 'Service quality report',
      target: 'Target',
      status: { pass: 'Met', fail: 'Missed', no_data: 'No data' },
    },
    work: {
      supplier: 'Supplier',
      note: 'Note',
      receiptHint: 'Quantities received in this delivery (deliveries may be partial)',
      invoiceNumber: 'Invoice number',
      invoiceAmount: 'Invoice amount (yuan)',
      stockInHint: 'Everything has arrived: confirm the stock-in.',
      score: 'Satisfaction',
      surveyComment: 'Comments',
      complete: {
        record_po: 'Place the order',
        receive_goods: 'Confirm the delivery',
        record_invoice: 'Record the invoice',
        stock_in: 'Confirm the stock-in',
        respond: 'Send the answer',
      },
      done: 'Done',
    },
    start: {
      procurement: 'Procurement request',
      category: 'Budget category',
      reason: 'Reason',
      neededBy: 'Needed by',
      unit: 'Unit',
      addLine: 'Add an item',
      removeLine: 'Remove',
      total: 'Total',
      submit: 'Submit',
      route: 'Approval route',
      auto: 'Approved automatically',
      submitted: '{id} submitted',
    },
    category: {
      office_supplies: 'Office supplies',
      equipment: 'Equipment',
      travel: 'Travel',
      events: 'Events and meetings',
      facilities: 'Facilities',
      services: 'Services',
      other: 'Other',
    },
    mine: { empty: 'No requests yet', withdraw: 'Withdraw', withdrawn: '{id} withdrawn' },
    process: {
      id: 'Number',
      status: 'Status',
      department: 'Department',
      amount: 'Amount',
      created: 'Submitted',
      items: 'Items',
      item: 'Item',
      quantity: 'Quantity',
      unitPrice: 'Unit price',
      comment: 'Comment',
      approve: 'Approve',
      reject: 'Reject',
      timeline: 'History',
      refused: 'Not done: {detail}',
      reasonRequired: 'A reason is required to reject',
      done: { approve: 'Approved', reject: 'Rejected' },
    },
    status: {
      running: 'In progress',
      completed: 'Completed',
      rejected: 'Rejected',
      withdrawn: 'Withdrawn',
      cancelled: 'Cancelled',
      failed: 'Cannot proceed',
      terminated: 'Terminated',
    },
  },
}

export function savedLocale(): Locale {
  const saved = localStorage.getItem('houqin.locale')
  return saved === 'en' ? 'en' : 'zh-CN'
}

// Dates in the business zone (China), whatever the browser's.
const short = { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', timeZone: 'Asia/Shanghai' } as const
const datetimeFormats = { 'zh-CN': { short }, en: { short } }

export const i18n = createI18n({ legacy: false, locale: savedLocale(), fallbackLocale: 'zh-CN', messages, datetimeFormats })

export function setLocale(l: Locale) {
  i18n.global.locale.value = l
  localStorage.setItem('houqin.locale', l)
  document.documentElement.lang = l
}
