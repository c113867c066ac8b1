// What a history entry says to people: the event types a process's
// timeline shows most, in both languages; any other type shows as it is
// (an auditor reads the exact type in the audit trail).
const labels: Record<string, { zh: string; en: string }> = {
  'procurement.requisition_submitted': { zh: '提交采购申请', en: 'Requisition submitted' },
  'procurement.budget_checked': { zh: '预算校验', en: 'Budget checked' },
  'procurement.budget_reserved': { zh: '预算占用', en: 'Budget reserved' },
  'procurement.budget_released': { zh: '预算释放', en: 'Budget released' },
  'procurement.approved': { zh: '审批通过', en: 'Approved' },
  'procurement.rejected': { zh: '已驳回', en: 'Rejected' },
  'procurement.po_recorded': { zh: '已下采购单', en: 'Purchase order placed' },
  'procurement.goods_received': { zh: '已到货', en: 'Goods received' },
  'procurement.invoice_recorded': { zh: '已登记发票', en: 'Invoice recorded' },
  'procurement.stocked_in': { zh: '已入库', en: 'Stocked in' },
  'procurement.completed': { zh: '已完成', en: 'Completed' },
  'trip.requested': { zh: '提交出差申请', en: 'Trip requested' },
  'approval.step_started': { zh: '审批步骤开始', en: 'Approval step started' },
  'approval.step_completed': { zh: '审批步骤完成', en: 'Approval step completed' },
  'approval.step_skipped': { zh: '审批步骤跳过（不适用）', en: 'Approval step skipped (does not apply)' },
  'task.opened': { zh: '待办生成', en: 'Task opened' },
  'task.completed': { zh: '待办完成', en: 'Task done' },
  'task.transferred': { zh: '转交', en: 'Transferred' },
  'task.reminded': { zh: '催办', en: 'Reminded' },
  'task.cancelled': { zh: '待办取消', en: 'Task cancelled' },
  'task.commented': { zh: '评论', en: 'Comment' },
  'task.approver_added': { zh: '加签', en: 'Approvers added' },
  'task.escalated': { zh: '超时升级', en: 'Escalated' },
  'process.returned': { zh: '退回申请人', en: 'Returned to the requester' },
  'process.resubmitted': { zh: '重新提交', en: 'Resubmitted' },
  'process.withdrawn': { zh: '已撤回', en: 'Withdrawn' },
  'process.revoked': { zh: '已撤销', en: 'Revoked' },
  'process.cancelled': { zh: '已取消', en: 'Cancelled' },
  'process.terminated': { zh: '已终止（流程外）', en: 'Terminated outside houqin' },
  'process.history_kept': { zh: '已保存流程历史副本', en: 'Workflow history kept' },
  'survey.answered': { zh: '满意度已评价', en: 'Survey answered' },
  'trip.booked': { zh: '已预订交通住宿', en: 'Travel booked' },
  'trip.departed': { zh: '已出发', en: 'Departed' },
  'trip.returned': { zh: '已返程', en: 'Returned from the trip' },
  'trip.claim_submitted': { zh: '提交报销', en: 'Claim submitted' },
  'trip.claim_rejected': { zh: '报销被驳回', en: 'Claim rejected' },
  'trip.claim_waived': { zh: '无需报销', en: 'Nothing to claim' },
  'trip.reimbursed': { zh: '已报销', en: 'Reimbursed' },
  'event.requested': { zh: '提交活动申请', en: 'Event requested' },
  'event.attendees_confirmed': { zh: '参会人员已确认', en: 'Attendees confirmed' },
  'event.publicity_confirmed': { zh: '宣传已确认', en: 'Publicity confirmed' },
  'event.arranged': { zh: '已落实安排', en: 'Arranged' },
  'event.ready': { zh: '筹备就绪', en: 'Ready' },
  'event.held': { zh: '活动已举行', en: 'Held' },
  'event.minutes_submitted': { zh: '提交会议纪要', en: 'Minutes submitted' },
  'event.minutes_reviewed': { zh: '纪要已审核', en: 'Minutes reviewed' },
  'inspection.requested': { zh: '发起安全检查', en: 'Inspection requested' },
  'inspection.recorded': { zh: '检查结果已记录', en: 'Checklist recorded' },
  'inspection.finding_opened': { zh: '发现问题，整改开始', en: 'Finding opened' },
  'inspection.finding_closed': { zh: '问题整改关闭', en: 'Finding closed' },
  'finding.assigned': { zh: '整改任务已分派', en: 'Remediation assigned' },
  'finding.fix_reported': { zh: '已报告整改', en: 'Fix reported' },
  'finding.verified': { zh: '已复查', en: 'Verified' },
  'finding.reopened': { zh: '复查未通过，重新整改', en: 'Reopened' },
  'finding.overdue': { zh: '整改逾期', en: 'Remediation overdue' },
  'finding.resolved': { zh: '整改完成', en: 'Resolved' },
}

// What the last part of any process's event type says, for the kinds
// without a label of their own (trip.approved, event.budget_reserved …).
const endings: Record<string, { zh: string; en: string }> = {
  approved: { zh: '审批通过', en: 'Approved' },
  rejected: { zh: '已驳回', en: 'Rejected' },
  completed: { zh: '已完成', en: 'Completed' },
  budget_checked: { zh: '预算校验', en: 'Budget checked' },
  budget_reserved: { zh: '预算占用', en: 'Budget reserved' },
  budget_released: { zh: '预算释放', en: 'Budget released' },
  budget_consumed: { zh: '预算核销', en: 'Budget spent' },
}

export function eventLabel(type: string | undefined, locale: string): string {
  const l = type ? (labels[type] ?? endings[type.slice(type.indexOf('.') + 1)]) : undefined
  if (!l) return type ?? ''
  return locale === 'en' ? l.en : l.zh
}

// The role IDs of the organisation, as people call them.
const roles: Record<string, { zh: string; en: string }> = {
  admin: { zh: '系统管理员', en: 'Administrator' },
  employee: { zh: '员工', en: 'Employee' },
  dept_head: { zh: '部门负责人', en: 'Department head' },
  logistics_manager: { zh: '后勤经理', en: 'Logistics manager' },
  logistics_staff: { zh: '后勤专员', en: 'Logistics staff' },
  budget_exception: { zh: '预算特批', en: 'Budget exceptions' },
  finance: { zh: '财务', en: 'Finance' },
  hr: { zh: '人事', en: 'HR' },
  purchasing: { zh: '采购', en: 'Purchasing' },
  warehouse: { zh: '仓储', en: 'Warehouse' },
  security: { zh: '安保', en: 'Security' },
  property_management: { zh: '物业管理', en: 'Property management' },
  auditor: { zh: '审计', en: 'Auditor' },
}

export function roleLabel(role: string, locale: string): string {
  const r = roles[role]
  if (!r) return role
  return locale === 'en' ? r.en : r.zh
}
