const ms = require('ms'); const isNumber = require('is-number');
console.log(ms(60000), isNumber(5));
