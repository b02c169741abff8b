// Mail templates: every template renders a subject, HTML and plain text; HTML escapes values, text has no markup.
import { cp, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { viewsDir } from '../../src/paths.js';
import { createMailRenderer, MAIL_TEMPLATES, type MailLocals, type MailTemplate, type RenderedMail } from '../../src/mail/templates.js';
import { compileTemplates } from '../../src/templates.js';
import { viewTemplates } from '../helpers/templates.js';

const ISSUER = 'https://login.example.com';
const WHEN = new Date('2024-05-01T12:34:00Z');

// One set of locals per template; `name` is the value the escaping tests replace.
const SAMPLES: { [T in MailTemplate]: MailLocals[T] } = {
  'email-code': { name: 'Alice Example', code: '123456', minutes: 5 },
  'backup-code-used': { name: 'Alice Example', when: WHEN, ip: '192.0.2.10', userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/126.0' },
  'verify-email': { name: 'Alice Example', link: 'https://login.example.com/account/verify-email?token=abc&x=1', hours: 24 },
  'mfa-connected': { name: 'Alice Example', when: WHEN },
  'mfa-disconnected': { name: 'Alice Example', when: WHEN, recovery: false },
  'email-changed': { name: 'Alice Example', oldEmail: 'alice@old.example', newEmail: 'alice@new.example' },
  'second-factor-locked': { name: 'Alice Example', wait: '15 minutes' },
  'password-locked': { name: 'Alice Example', wait: '15 minutes' },
  'password-changed': { name: 'Alice Example', when: WHEN, ip: '192.0.2.10', userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/126.0' },
  'password-after-failures': { name: 'Alice Example', failures: 4, when: WHEN, ip: '192.0.2.10', userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/126.0' },
  'codes-after-password': { name: 'Alice Example', failures: 3, when: WHEN, ip: '192.0.2.10', userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/126.0' },
  'mfa-reset': { name: 'Alice Example', reason: 'Lost phone, ticket #42', when: WHEN },
};

const FOOTER = `This email was sent by Twofold at ${ISSUER}. If this was not you, contact your administrator.`;
const renderer = createMailRenderer(await viewTemplates());

function render<T extends MailTemplate>(template: T, overrides: Partial<MailLocals[T]> = {}): RenderedMail {
  return renderer.render(template, { ...SAMPLES[template], ...overrides }, ISSUER);
}

/** The visible text of an HTML email, with tags dropped and entities decoded (enough for our templates). */
function visibleText(html: string): string {
  return html.replace(/<[^>]*>/g, ' ').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&').replace(/\s+/g, ' ');
}

describe('mail templates', function () {
  for (const template of MAIL_TEMPLATES) {
    describe(template, function () {
      const mail = render(template);

      it('has a one-line subject that names Twofold and holds no markup', function () {
        expect(mail.subject).to.match(/Twofold/);
        expect(mail.subject).not.to.match(/[\r\n<>]/);
        expect(mail.subject).to.equal(mail.subject.trim());
      });

      it('renders HTML with the greeting and the footer naming the issuer', function () {
        expect(mail.html).to.match(/^<!DOCTYPE html>/);
        expect(visibleText(mail.html)).to.include('Hello Alice Example,');
        expect(visibleText(mail.html)).to.include(FOOTER);
      });

      it('loads nothing from outside: no images, stylesheets, scripts or remote URLs in styles', function () {
        expect(mail.html).not.to.match(/<(img|link|script|iframe|object|style)\b/i);
        expect(mail.html).not.to.match(/\bsrc=|url\(/i);
        const hrefs = [...mail.html.matchAll(/href="([^"]*)"/g)].map((match) => match[1]);
        expect(hrefs).to.deep.equal(template === 'verify-email' ? ['https://login.example.com/account/verify-email?token=abc&amp;x=1'] : []);
      });

      it('renders plain text with the greeting and footer and without any markup or entity', function () {
        expect(mail.text).to.match(/^Hello Alice Example,\n\n/);
        expect(mail.text).to.include(`\n\n--\n${FOOTER}\n`);
        expect(mail.text).not.to.match(/<\/?[a-z!][^>]*>/i);
        expect(mail.text).not.to.match(/&(amp|lt|gt|quot|#\d+);/);
        expect(mail.text).not.to.match(/\n{3,}/);
      });

      it('escapes a name with markup in the HTML and keeps it literal in the text', function () {
        const name = '<script>alert("x")</script> & <b>Bob</b>';
        const hostile = render(template, { name } as Partial<MailLocals[typeof template]>);
        expect(hostile.html).not.to.include('<script>');
        expect(hostile.html).not.to.include('<b>');
        expect(hostile.html).to.include('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;Bob&lt;/b&gt;');
        expect(hostile.text).to.include(`Hello ${name},`);
        expect(hostile.subject).to.equal(mail.subject);
      });
    });
  }

  it('email-code: says the code and how long it is valid, in plain words, and keeps the code out of the subject', function () {
    const mail = render('email-code', { code: '987654' });
    expect(mail.text).to.include('Your Twofold back-up code is 987654. It is valid for 5 minutes.');
    expect(mail.text).to.include('If you did not try to log in, change your password and tell your administrator.');
    expect(visibleText(mail.html)).to.include('987654');
    expect(mail.subject).not.to.include('987654');
  });

  it('backup-code-used: names the time in UTC, the IP address and the browser, escaped in HTML', function () {
    const mail = render('backup-code-used', { userAgent: 'Evil/1.0 <img src=x onerror=alert(1)>' });
    expect(mail.text).to.include('When: 1 May 2024 at 12:34 UTC');
    expect(mail.text).to.include('IP address: 192.0.2.10');
    expect(mail.text).to.include('Browser: Evil/1.0 <img src=x onerror=alert(1)>');
    expect(mail.html).not.to.include('<img');
    expect(visibleText(mail.html)).to.include('Browser Evil/1.0 <img src=x onerror=alert(1)>');
  });

  it('verify-email: escapes the link in its attribute and shows the hours', function () {
    const mail = render('verify-email', { link: 'https://login.example.com/v?t="><script>x</script>', hours: 1 });
    expect(mail.html).not.to.include('"><script>');
    expect(mail.html).to.include('href="https://login.example.com/v?t=&quot;&gt;&lt;script&gt;x&lt;/script&gt;"');
    expect(mail.text).to.include('within 1 hour:\n\nhttps://login.example.com/v?t="><script>x</script>\n');
  });

  it('mfa-disconnected: explains a recovery after an email code only when there was one', function () {
    const recovery = render('mfa-disconnected', { recovery: true });
    const plain = render('mfa-disconnected', { recovery: false });
    expect(recovery.text).to.include('after logging in with a back-up code sent by email');
    expect(plain.text).not.to.include('back-up code');
    expect(visibleText(recovery.html)).to.include('after logging in with a back-up code sent by email');
    expect(visibleText(plain.html)).not.to.include('back-up code');
  });

  it('email-changed and second-factor-locked: name both addresses and the lock time', function () {
    expect(render('email-changed').text).to.include('changed from alice@old.example to alice@new.example.');
    expect(render('second-factor-locked').text).to.include('is locked for 15 minutes.');
    expect(render('second-factor-locked', { wait: '1 minute' }).text).to.include('is locked for 1 minute.');
    expect(render('password-locked').text).to.include('Logging in with your username is locked for 15 minutes.');
    expect(visibleText(render('password-locked', { wait: '1 minute' }).html)).to.include('is locked for 1 minute.');
    const afterFailures = render('password-after-failures');
    expect(afterFailures.text).to.include('entered correctly after 4 wrong attempts in a row.').and.include('IP address: 192.0.2.10');
    expect(visibleText(afterFailures.html)).to.include('after 4 wrong attempts in a row.').and.include('192.0.2.10');
    const codes = render('codes-after-password');
    expect(codes.text).to.include('entered correctly, then 3 wrong two-factor codes in the same login.').and.include('IP address: 192.0.2.10');
    expect(visibleText(codes.html)).to.include('then 3 wrong two-factor codes').and.include('someone knows your password');
  });

  it('mfa-reset: says when, gives the administrator\'s reason (escaped in HTML) and what happens at the next login', function () {
    const mail = render('mfa-reset', { reason: 'Phone stolen <b>today</b> & replaced' });
    expect(mail.text).to.include('on 1 May 2024 at 12:34 UTC.');
    expect(mail.text).to.include('The reason they gave: Phone stolen <b>today</b> & replaced\n');
    expect(mail.text).to.include('Twofold asks you to connect an authenticator app again');
    expect(mail.html).not.to.include('<b>today');
    expect(visibleText(mail.html)).to.include('Phone stolen <b>today</b> & replaced');
    expect(mail.subject).not.to.include('Phone stolen');
  });

  it('looks every template up when created, so a missing file fails at start', async function () {
    const copy = await mkdtemp(path.join(os.tmpdir(), 'twofold-views-'));
    try {
      await cp(path.join(viewsDir, 'mail'), path.join(copy, 'mail'), { recursive: true });
      const complete = await compileTemplates(copy);
      expect(() => createMailRenderer(complete)).not.to.throw();
      await rm(path.join(copy, 'mail', 'mfa-connected', 'text.pug'));
      const incomplete = await compileTemplates(copy);
      expect(() => createMailRenderer(incomplete)).to.throw(/mfa-connected\/text\.pug/);
    } finally {
      await rm(copy, { recursive: true, force: true });
    }
  });
});
