import { createApp } from 'vue'
import App from './App.vue'
import { i18n, savedLocale } from './i18n'
import { router } from './router'
import 'element-plus/theme-chalk/base.css'
// Used as functions and a directive, which the on-demand import does not see.
import 'element-plus/theme-chalk/el-message.css'
import 'element-plus/theme-chalk/el-loading.css'
import 'element-plus/theme-chalk/el-badge.css' // a repeated message's count
import './style.css'

document.documentElement.lang = savedLocale()
createApp(App).use(i18n).use(router).mount('#app')
