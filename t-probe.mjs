import { decodeCmcd, CmcdReporter } from '@svta/cml-cmcd';
for (const s of ['e=t,sid="abc",ts=1700000000000,sta=p,bl=(1200),mtp=(5000 v),br=(3000)', 'garbage%%%', '', 'e=rr,url="https://d1.cloudfront.net/x/seg.m4s",rc=200,ttfb=45', 'a=b=c', '"unterminated', 'sid=123']) {
  try { console.log(JSON.stringify(s), '=>', decodeCmcd(s)); } catch (e) { console.log(JSON.stringify(s), 'THROWS', e.message); }
}
const sent=[];
const r = new CmcdReporter({sid:'s-1', cid:'big-buck', version:2, transmissionMode:'query', enabledKeys:[], eventTargets:[{url:'https://api.example.com/v1/cmcd/TOKEN', events:['t','ps','e','rr','bc'], enabledKeys: undefined, batchSize:3}]}, async (req)=>{sent.push(req); return {status:204}});
r.update({sf:'h', sta:'s'}); r.start(); r.update({mtp:[5000], bl:[8000], sta:'p'}); r.recordEvent('bc',{br:[3000]}); r.update({sta:'r'}); r.update({sta:'p'}); r.update({sta:'f'}); r.recordEvent('e',{ec:['fragLoadError']}); r.flush();
console.log(JSON.stringify(sent,null,1));
